import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(3, 3))
ax.plot([1, 8, 6], color='#9467bd', marker='o', linewidth=3)
ax.set_title('Alpha')
plt.show()
