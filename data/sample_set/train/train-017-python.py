import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(3, 3))
ax.bar(['Growth', 'Beta', 'Users'], [2, 1, 1], color='#ff7f0e')
ax.set_title('Beta')
plt.show()
