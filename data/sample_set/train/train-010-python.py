import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(3, 3))
ax.bar(['Growth', 'Users', 'Delta'], [5, 3, 4], color='#2ca02c')
ax.set_title('Score')
plt.show()
